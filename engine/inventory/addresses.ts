/** IPv4 arithmetic for recovery subnets. */
export const ipToInt = (ip: string): number => ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
export const intToIp = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");

export function parseCidr(cidr: string): { base: number; size: number } {
  const [ip, bits] = cidr.split("/");
  const size = 2 ** (32 - Number(bits));
  return { base: ipToInt(ip) - (ipToInt(ip) % size), size };
}

/** Addresses machines may take: not the network address, not .1 (the gateway), not the broadcast address. */
export function* hostAddresses(cidr: string): Generator<string> {
  const { base, size } = parseCidr(cidr);
  for (let n = base + 2; n < base + size - 1; n++) yield intToIp(n);
}

export function inSubnet(ip: string, cidr: string): boolean {
  const { base, size } = parseCidr(cidr);
  const n = ipToInt(ip);
  return n >= base + 2 && n < base + size - 1;
}
