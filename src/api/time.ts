// metav1.Time on the wire: RFC 3339 in UTC with second precision ("2026-11-22T06:40:17Z").
export function metaTime(d: Date = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}
