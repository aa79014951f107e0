import { useEffect, useState } from 'react';
import { openRun } from './run-actions';
import type { RunEntry } from './run-entries';

/** The Generate screen's paths (web/src/router.tsx). */
const GENERATE_PATHS = new Set(['/', '/generate']);

/** The address of the Generate screen showing `runId` (or none). */
export function runHref(runId: string | undefined): string {
  return runId ? `/generate?run=${encodeURIComponent(runId)}` : '/generate';
}

/**
 * The URL carries the run on the canvas (`/generate?run=ID`), so a reload or a shared link
 * shows it: on arrival the linked run is opened (from the queue, or read from the server);
 * afterwards the address follows the selection (replaced, so Back still leaves the screen).
 * Returns why a linked run cannot be shown.
 */
export function useRunLink(selected: string | undefined, runs: readonly RunEntry[]): string | undefined {
  const [linked] = useState(() => new URLSearchParams(location.search).get('run') ?? undefined);
  const [opening, setOpening] = useState(!!linked);
  const [problem, setProblem] = useState<string>();

  useEffect(() => {
    if (!linked) return;
    let live = true;
    void openRun(linked).then((message) => {
      if (!live) return;
      setProblem(message);
      setOpening(false);
    });
    return () => {
      live = false;
    };
  }, [linked]);

  const runId = runs.find((entry) => entry.key === selected)?.runId;
  useEffect(() => {
    if (opening || problem || !GENERATE_PATHS.has(location.pathname)) return;
    const target = runHref(runId);
    const current = location.pathname + location.search;
    if (runId ? current !== target : new URLSearchParams(location.search).has('run')) history.replaceState(history.state, '', target);
  }, [runId, opening, problem]);
  return problem;
}
