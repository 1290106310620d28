/** The package ships no types: its one export maps a key to its Redis Cluster hash slot (honouring `{tags}`). */
declare module 'cluster-key-slot' {
  export default function calculateSlot(key: string | Buffer): number;
}
