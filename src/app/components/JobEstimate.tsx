// Before a run: how long the whole job will take on this device, per stage, from the speed this
// device showed in earlier runs with this pack (src/app/device-rates.ts) and the request's stage plan.
import { useEffect, useState } from 'react';
import { loadRates } from '../device-rates.ts';
import { estimatePlan, type PlanEstimate } from '../eta.ts';
import { STAGE_LABEL, formatDuration } from '../format.ts';
import { parseForm, planRequest, useApp } from '../state.ts';

export function JobEstimate() {
  const pack = useApp((s) => s.pack);
  const form = useApp((s) => s.form);
  const status = useApp((s) => s.status);
  const [est, setEst] = useState<PlanEstimate | null>(null);
  useEffect(() => {
    // The time does not depend on the words: an empty prompt still gets an estimate.
    const parsed = pack ? parseForm({ ...form, prompt: form.prompt.trim() || 'a' }) : null;
    if (!pack || !parsed?.ok) return setEst(null);
    let live = true;
    // status: a finished run has just refined the rates.
    const t = setTimeout(() => void planRequest(parsed.request).then((plan) => { if (live) setEst(plan ? estimatePlan(plan, loadRates(pack)) : null); }), 150);
    return () => { live = false; clearTimeout(t); };
  }, [pack, form, status]);
  if (!pack || status === 'generating' || !est) return null;
  const parts = est.stages.length > 1 ? ` (${est.stages.map((s) => `${STAGE_LABEL[s.stage].toLowerCase()} ${formatDuration(s.ms ?? 0)}`).join(' · ')})` : '';
  return (
    <p className="muted small job-estimate" aria-live="polite" data-total-ms={est.totalMs ?? undefined}>
      {est.totalMs !== null
        ? `Takes about ${formatDuration(Math.max(1000, est.totalMs))} on this device${parts}.`
        : 'A time estimate appears once this device has run this model (after the first steps of a run).'}
    </p>
  );
}
