/** Placeholder: the admin dashboard (charts). */
export function AdminPage() {
  return <h1>Admin</h1>;
}
