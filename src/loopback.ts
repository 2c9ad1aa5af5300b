// Whether a host names this machine's loopback: the bench loads only such targets unless told
// otherwise, and a relay bound to one has a UDP side that reaches only this machine.

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/i.test(host);
}
