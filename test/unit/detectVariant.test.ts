// Variants are told apart by their own detect data: the machine, then the symbols
// each variant names as present or absent.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { detectVariant } from '../../adapter/bluepill/detect';
import { readElfFunctions } from '../../adapter/elf/symbols';
import { buildFixture } from '../support/fixtures';

const KVM = 'gvisor.dev/gvisor/pkg/sentry/platform/kvm';
const SIGFRAME = 'gvisor.dev/gvisor/pkg/sigframe';

describe('detectVariant', () => {
  it('amd64: the sigframe entry makes the 2024+ variant, with or without kvm.sighandler', () => {
    assert.equal(detectVariant(62, [`${SIGFRAME}.CallWithSignalFrame.abi0`, `${KVM}.bluepill.abi0`])?.id, 'amd64-sigframe');
    assert.equal(detectVariant(62, [`${SIGFRAME}.CallWithSignalFrame`, `${KVM}.sighandler.abi0`])?.id, 'amd64-sigframe');
  });
  it('amd64: kvm.sighandler without it is the CLI variant, and so is a program with neither', () => {
    assert.equal(detectVariant(62, [`${KVM}.sighandler.abi0`, 'main.main'])?.id, 'amd64-cli');
    assert.equal(detectVariant(62, ['main.main'])?.id, 'amd64-cli');
  });
  it('arm64 by machine; another machine has no variant', () => {
    assert.equal(detectVariant(183, ['main.main'])?.id, 'arm64');
    assert.equal(detectVariant(40, ['main.main']), undefined);
  });
  it('the round-trip fixture, built for both architectures, from its ELF symbols', () => {
    for (const [goarch, id] of [['amd64', 'amd64-cli'], ['arm64', 'arm64']] as const) {
      const { info, functions } = readElfFunctions(buildFixture('minibluepill', { goarch }));
      assert.equal(detectVariant(info.machine, functions.map((f) => f.name))?.id, id);
    }
  });
});
