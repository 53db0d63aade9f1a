// The exchange kinds by number: the dense tables of kinds/table.ts are indexed by them.
// A leaf of its own, so that what only names a kind (the Classified a packet is
// classified into) need not import the table, which imports every kind's module.
export const enum Kind {
  None = 0,
  IcmpEcho = 1,
  Icmpv6Echo = 2,
  TcpHandshake = 3,
  Dns = 4,
  Dhcp = 5,
  Arp = 6,
  IcmpTimestamp = 7,
}
