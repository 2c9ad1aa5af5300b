// Connections per client address (normalizeAddress: an IPv4 address or an IPv6 /64), against a
// cap: the relay's --max-per-ip, and the same count for WebSocket ports before the upgrade.

export class AddressCounts {
  private readonly counts = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** Whether the address already holds as many connections as the cap allows. */
  full(address: string): boolean {
    return (this.counts.get(address) ?? 0) >= this.limit;
  }

  add(address: string): void {
    this.counts.set(address, (this.counts.get(address) ?? 0) + 1);
  }

  remove(address: string): void {
    const left = (this.counts.get(address) ?? 1) - 1;
    if (left > 0) this.counts.set(address, left);
    else this.counts.delete(address);
  }
}
