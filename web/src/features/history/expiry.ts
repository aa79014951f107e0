/**
 * How long a workspace item has left, for its caption: "expires in 23 h", "expires in 40 min",
 * "expires soon" in its last minute, "expired" after. Library items (no `expiresAt`) never expire:
 * undefined.
 *
 * @example expiryText('2025-01-02T00:00:00Z', Date.parse('2025-01-01T01:00:00Z')) // 'expires in 23 h'
 */
export function expiryText(expiresAt: string | null, now: number): string | undefined {
  if (expiresAt === null) return undefined;
  const left = Date.parse(expiresAt) - now;
  if (!Number.isFinite(left)) return undefined;
  if (left <= 0) return 'expired';
  if (left < 60_000) return 'expires soon';
  if (left < 3_600_000) return `expires in ${Math.floor(left / 60_000)} min`;
  return `expires in ${Math.floor(left / 3_600_000)} h`;
}
