/** A URL fit for logs, banners and error messages (Redis, PostgreSQL): the password, if any, replaced by `***`. */
export function redactUrlPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'an unparsable URL';
  }
}
