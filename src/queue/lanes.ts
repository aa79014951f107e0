/**
 * Lanes split one queue between the processes that may run its jobs. Every entry has one
 * lane; a claim names the lanes it takes from. The in-process runner claims `local`; remote
 * workers claim `remote:<backendName>` for the remote backends they serve. Nothing else
 * about a job decides who runs it.
 */
export const LOCAL_LANE = 'local';

/** The lane of the jobs of remote backend `backendName`. */
export function remoteLane(backendName: string): string {
  return `remote:${backendName}`;
}

/**
 * The lane a job goes to, from its backend's configured name and type: `remote:<name>` for a
 * backend of type `remote` (run by workers over HTTP), `local` for everything this process
 * runs itself.
 *
 * @example laneFor('gpu', 'remote') // 'remote:gpu'; laneFor('builtin', 'builtin') // 'local'
 */
export function laneFor(backendName: string, backendType: string | undefined): string {
  return backendType === 'remote' ? remoteLane(backendName) : LOCAL_LANE;
}

/** One lane or several, as a non-empty list. */
export function laneList(lanes: string | readonly string[] | undefined): readonly string[] {
  if (lanes === undefined) return [LOCAL_LANE];
  const list = typeof lanes === 'string' ? [lanes] : lanes;
  if (list.length === 0) throw new Error('Expected at least one queue lane');
  return list;
}
