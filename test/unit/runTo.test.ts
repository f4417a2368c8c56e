// Run to Next Phase / Guest Exit / Resume Point: the plans, checked against the generated
// table (every breakpoint in a function it calls host-only) and the landmark model.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { judgeFunction } from '../../adapter/bluepill/guestCode';
import type { GuestCodeTable } from '../../adapter/bluepill/guestCodeTypes';
import { PHASES, VARIANTS, variantById, type Phase } from '../../adapter/bluepill/model';
import { repoRoot } from '../support/paths';
import { planGuestExit, planNextPhase, planResumePoint, planRunTo, STEP_BUDGET, type RunToGoal } from '../../adapter/bluepill/runTo';

const GOALS: RunToGoal[] = ['next-phase', 'guest-exit', 'resume-point'];
const breaks = (legs: { kind: string; functionName?: string }[]) => legs.filter((l) => l.kind === 'break').map((l) => l.functionName);

describe('run to a phase without an unsafe breakpoint', () => {
  it('never plants a breakpoint in a function the table does not call host-only, for every goal, phase and variant', () => {
    for (const variant of VARIANTS) {
      for (const { phase } of PHASES) {
        for (const goal of GOALS) {
          const plan = planRunTo(goal, variant, phase);
          assert.ok(plan.words.length > 0, `${variant.id} ${phase} ${goal}: no words`);
          for (const name of breaks(plan.legs)) {
            const judgement = judgeFunction(name!, variant.arch);
            assert.equal(judgement?.verdict, 'host-only', `${variant.id} ${phase} ${goal}: ${name} is ${judgement?.verdict}`);
            assert.match(judgement!.source, /derived from gVisor/, `${name}: judged by name rules, not by the table`);
          }
          for (const leg of plan.legs) if (leg.kind === 'step') assert.ok(['guest-exit', 'sigreturn', 'resumed'].includes(leg.from), `${variant.id} ${goal}: steps from ${leg.from}`);
        }
      }
    }
  });

  it('runs to the guest exit with a breakpoint in kvm.bluepillGuestExit from every phase', () => {
    for (const variant of VARIANTS) {
      for (const { phase } of PHASES) {
        const plan = planGuestExit(variant, phase);
        assert.deepEqual(plan.legs, [{ kind: 'break', functionName: 'kvm.bluepillGuestExit', reaches: 'guest-exit' }]);
      }
    }
    assert.match(planGuestExit(variantById('arm64'), 'guest-exit').words, /next one/);
  });

  it('goes phase by phase where the table allows, and names the phases it skips', () => {
    const next = (id: 'arm64' | 'amd64-cli' | 'amd64-sigframe', phase: Phase) => planNextPhase(variantById(id), phase);
    // arm64: kvm.bluepill runs in guest mode too, so from the host the next safe phase is the handler's.
    assert.deepEqual(next('arm64', 'host').legs, [{ kind: 'break', functionName: 'kvm.sighandler', reaches: 'trapped' }]);
    assert.match(next('arm64', 'host').words, /Skipped: "entering" has no function .*kvm\.bluepill/);
    assert.deepEqual(next('arm64', 'trapped').legs, [{ kind: 'break', functionName: 'kvm.bluepillHandler', reaches: 'in-guest' }]);
    assert.deepEqual(next('arm64', 'in-guest').legs, [{ kind: 'break', functionName: 'kvm.bluepillGuestExit', reaches: 'guest-exit' }]);
    // The vDSO trampoline is not in the table: single steps, no breakpoint.
    assert.deepEqual(next('arm64', 'guest-exit').legs, [{ kind: 'step', from: 'guest-exit', reaches: 'sigreturn', budget: STEP_BUDGET }]);
    assert.deepEqual(next('arm64', 'sigreturn').legs, [{ kind: 'step', from: 'sigreturn', reaches: 'resumed', budget: STEP_BUDGET }]);
    assert.deepEqual(next('arm64', 'resumed').legs, [{ kind: 'step', from: 'resumed', reaches: 'host', budget: STEP_BUDGET }]);
    // amd64 since 2024: the user handler and sigframe.Sigreturn are host-only.
    assert.deepEqual(next('amd64-sigframe', 'entering').legs, [{ kind: 'break', functionName: 'kvm.bluepillUserHandler', reaches: 'trapped' }]);
    assert.deepEqual(next('amd64-sigframe', 'guest-exit').legs, [{ kind: 'break', functionName: 'sigframe.Sigreturn', reaches: 'sigreturn' }]);
    // amd64 before 2024: the table (of a 2026 gVisor) has no amd64 kvm.sighandler, so "trapped" is skipped.
    const cli = next('amd64-cli', 'host');
    assert.deepEqual(cli.legs, [{ kind: 'break', functionName: 'kvm.bluepillHandler', reaches: 'in-guest' }]);
    assert.match(cli.words, /"trapped" has no function .* on amd64 \(kvm\.sighandler/);
  });

  it('reaches the resume point through the guest exit and the trampoline, never by a breakpoint at the exit PC', () => {
    assert.deepEqual(planResumePoint(variantById('amd64-cli'), 'in-guest').legs, [
      { kind: 'break', functionName: 'kvm.bluepillGuestExit', reaches: 'guest-exit' },
      { kind: 'step', from: 'guest-exit', reaches: 'sigreturn', budget: STEP_BUDGET },
      { kind: 'step', from: 'sigreturn', reaches: 'resumed', budget: STEP_BUDGET },
    ]);
    assert.deepEqual(planResumePoint(variantById('amd64-sigframe'), 'guest-exit').legs, [
      { kind: 'break', functionName: 'sigframe.Sigreturn', reaches: 'sigreturn' },
      { kind: 'step', from: 'sigreturn', reaches: 'resumed', budget: STEP_BUDGET },
    ]);
    assert.deepEqual(planResumePoint(variantById('arm64'), 'sigreturn').legs, [{ kind: 'step', from: 'sigreturn', reaches: 'resumed', budget: STEP_BUDGET }]);
    assert.equal(planResumePoint(variantById('arm64'), 'resumed').legs[0].kind, 'break', 'from a resume point, the next trip\'s');
  });

  it('says in words that there is no safe way when the table calls nothing host-only', () => {
    const everythingBoth: GuestCodeTable = { gvisorVersion: 'test', functions: [['kvm.bluepillGuestExit', 'both', 'test row']] };
    const exit = planGuestExit(variantById('arm64'), 'in-guest', everythingBoth);
    assert.deepEqual(exit.legs, []);
    assert.match(exit.words, /No safe breakpoint for the guest exit: .*kvm\.bluepillGuestExit/);
    const next = planNextPhase(variantById('arm64'), 'host', everythingBoth);
    assert.deepEqual(next.legs, []);
    assert.match(next.words, /No safe way to the next phase from "host"/);
    assert.deepEqual(planResumePoint(variantById('arm64'), 'host', everythingBoth).legs, []);
  });

  it('are buttons in the Bluepill State view\'s title and palette commands, shown while a bluepill session is stopped', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    for (const command of ['bluepill.runToNextPhase', 'bluepill.runToGuestExit', 'bluepill.runToResumePoint']) {
      assert.ok(manifest.contributes.commands.some((c: { command: string; icon?: string }) => c.command === command && c.icon), `${command} is not contributed with an icon`);
      const title = manifest.contributes.menus['view/title'].find((m: { command: string }) => m.command === command);
      assert.match(title?.when ?? '', /view == bluepill\.state && debugType == bluepill && debugState == stopped/, `${command} is not in the view's title`);
      assert.match(title.group, /^navigation/);
      const palette = manifest.contributes.menus.commandPalette.find((m: { command: string }) => m.command === command);
      assert.equal(palette?.when, 'debugType == bluepill && debugState == stopped');
    }
  });
});
