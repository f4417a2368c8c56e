// The shape of the generated table of where gVisor's KVM-platform code runs
// (guestCode.generated.ts, written by tools/gen-guest-code.sh).

/** guest: runs in guest mode; both: in guest mode and on the host; host-only: only in the host's signal handler. */
export type GuestVerdict = 'guest' | 'both' | 'host-only';
export type GuestArch = 'amd64' | 'arm64';

/** [function as named in the binary (package shortened), verdict, reason, architecture when it differs]. */
export type GuestCodeRow = readonly [name: string, verdict: GuestVerdict, reason: string, arch?: GuestArch];

export interface GuestCodeTable {
  gvisorVersion: string;
  functions: readonly GuestCodeRow[];
}
