/** Node system errors carry a string `code` (ENOENT, EADDRINUSE, EACCES…); undefined for anything else. */
export function errnoCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
