// The page of the React Query test: a project list read the way SkillMeat's useProjectCache reads
// it (['projects', 'list', 'with-cache-info']), never refetched on a timer, kept fresh by
// useProjcacheEvents alone.
import { useState } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider, useQuery, useQueryClient } from '@tanstack/react-query';
import { useProjcacheEvents } from '../dist/react.js';

window.__fetches = 0;

function Projects() {
  const { data } = useQuery({
    queryKey: ['projects', 'list', 'with-cache-info'],
    queryFn: async () => {
      window.__fetches += 1;
      const res = await fetch('/api/v1/cache/projects?limit=500');
      return res.json();
    },
  });
  if (!data) return <p id="loading">loading</p>;
  return (
    <ul id="projects">
      {data.items.map((p) => (
        <li key={p.id}>{p.name}: modified {p.drift_counts.modified ?? 0}</li>
      ))}
    </ul>
  );
}

function App() {
  const queryClient = useQueryClient();
  const [state, setState] = useState('connecting');
  useProjcacheEvents(queryClient, { url: location.origin, onState: setState });
  return (
    <>
      <p id="state">{state}</p>
      <Projects />
    </>
  );
}

const client = new QueryClient({
  defaultOptions: { queries: { staleTime: Infinity, refetchInterval: false, refetchOnWindowFocus: false } },
});
createRoot(document.getElementById('root')).render(
  <QueryClientProvider client={client}>
    <App />
  </QueryClientProvider>,
);
