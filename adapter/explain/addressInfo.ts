// What an address in a listing is: its function + offset, and the function's role
// in the bluepill round trip (any variant's landmarks: a listing does not say which).
import { PHASES, VARIANTS, type Landmark } from '../bluepill/model';
import { runsInGuestMode } from '../bluepill/guestCode';
import { landmarkIndex } from '../bluepill/symbols';
import type { ListingIndex } from './listingIndex';

const indexes = VARIANTS.map(landmarkIndex);

export function landmarkOfFunction(name: string): Landmark | undefined {
  for (const index of indexes) {
    const l = index.bySymbolName(name);
    if (l) return l;
  }
  return undefined;
}

export function addressMarkdown(index: ListingIndex, address: number): string | undefined {
  // A hover on a long run of hex digits gives Infinity or a rounded number: no address.
  if (!Number.isSafeInteger(address) || address < 0) return undefined;
  const block = index.blockAt(address);
  if (!block) return undefined;
  const offset = address - block.firstAddress!;
  const lines = [`**${block.name}**${offset ? `+0x${offset.toString(16)}` : ''}`, '', `\`0x${address.toString(16)}\` in ${block.file ? `\`${block.file.split('/').pop()}\`` : 'this listing'}`];
  const landmark = landmarkOfFunction(block.name);
  if (landmark) {
    lines.push('', `Bluepill: **${landmark.role}**, phase *${PHASES.find((p) => p.phase === landmark.phase)!.title}*. ${landmark.words}`);
    if (runsInGuestMode(block.name)) lines.push('', '⚠ Also runs inside the guest (by gVisor\'s source): a software breakpoint here is unsafe.');
  }
  return lines.join('\n');
}
