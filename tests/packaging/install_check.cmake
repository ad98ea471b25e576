# cmake --install puts the binary under PREFIX/bin, where PATH finds it, and it runs.
file(REMOVE_RECURSE ${PREFIX})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX} RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E env PATH=${PREFIX}/bin projcache version
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^projcache [0-9]+\\.[0-9]+\\.[0-9]+")
  message(FATAL_ERROR "the installed projcache did not run from PATH: ${rc} ${out} ${err}")
endif()
message(STATUS "installed and ran: ${out}")

# Completion, man page and service files land where the tools look, and each works.
foreach(f share/bash-completion/completions/projcache share/zsh/site-functions/_projcache share/man/man1/projcache.1
          lib/systemd/user/projcache.service share/projcache/launchd/dev.projcache.plist)
  if(NOT EXISTS ${PREFIX}/${f})
    message(FATAL_ERROR "cmake --install did not install ${f}")
  endif()
endforeach()
execute_process(COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/check_installed_files.sh ${PREFIX}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "installed files do not work:\n${out}${err}")
endif()
message(STATUS "${out}")
