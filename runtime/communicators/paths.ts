/**
 * The trailing-slash rule of directory copies (rsync's, and Packer's file provisioner's): a
 * source ending in `/` copies its contents into the destination; otherwise the directory
 * itself is created inside the destination.
 */

/** The last path segment, ignoring trailing slashes. */
export function lastSegment(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/** Where a directory copy of `source` into `destination` lands. */
export function destinationDir(destination: string, source: string, join: (a: string, b: string) => string): string {
  if (source.endsWith("/")) return destination;
  return join(destination, lastSegment(source));
}
