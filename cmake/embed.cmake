# Compiles every file of a folder into a C++ source as (name, content) pairs, so the binary
# carries its SQL migrations and web assets with no files beside it.
function(embed_files target out_cpp symbol dir)
  file(GLOB inputs CONFIGURE_DEPENDS ${dir}/*)
  list(SORT inputs)
  add_custom_command(OUTPUT ${out_cpp}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out_cpp} -DSYMBOL=${symbol} -DDIR=${dir}
            -P ${CMAKE_SOURCE_DIR}/cmake/embed_run.cmake
    DEPENDS ${inputs} ${CMAKE_SOURCE_DIR}/cmake/embed_run.cmake
    COMMENT "Embedding ${dir}")
  add_custom_target(${target} DEPENDS ${out_cpp})
endfunction()
