/** Placeholder: the History gallery. */
export function HistoryPage() {
  return <h1>History</h1>;
}
