/** The driver's URL rebuilt from a store URL's parts, for the network SQL engines. */

/**
 * `scheme://location?params` for the driver: the user and password encoded again (the location
 * arrives percent-decoded) and chatstore's own parameters (`own`) left out.
 */
export function driverUrl(scheme: string, location: string, params: URLSearchParams, own: readonly string[]): string {
  const at = location.lastIndexOf('@');
  let authority = location;
  if (at >= 0) {
    const userInfo = location.slice(0, at);
    const colon = userInfo.indexOf(':');
    const user = colon < 0 ? userInfo : userInfo.slice(0, colon);
    const password = colon < 0 ? undefined : userInfo.slice(colon + 1);
    authority = `${encodeURIComponent(user)}${password === undefined ? '' : `:${encodeURIComponent(password)}`}@${location.slice(at + 1)}`;
  }
  const query = new URLSearchParams(params);
  for (const name of own) query.delete(name);
  const rest = query.toString();
  return `${scheme}://${authority}${rest === '' ? '' : `?${rest}`}`;
}
