// `onboarding-driver`: the onboarding state on the tenant row (a step number, raised but never lowered)
// and the evidence of the activation predicate.

import { notFound } from '../errors.js';
import { onboardingState, onboardingStep } from '../rows.js';

export function fetchOnboardingState(call, tenantId) {
  const t = call.tenant(tenantId);
  const step = call.values('onboarding-driver/fetch-onboarding-state', t);
  if (step === null) throw notFound('tenant');
  return onboardingState(step[0]);
}

export function writeOnboardingState(call, tenantId, newState) {
  const t = call.tenant(tenantId);
  const previous = call.values('onboarding-driver/write-onboarding-state-read', t);
  if (previous === null) throw notFound('tenant');
  call.execute('onboarding-driver/write-onboarding-state-raise', t, onboardingStep(newState), call.now);
  return onboardingState(previous[0]);
}

export function fetchActivationEvidence(call, tenantId) {
  const t = call.tenant(tenantId);
  const row = call.one('onboarding-driver/fetch-activation-evidence', t, call.now);
  if (row === null) return null;
  return { usable_api_keys: row.keys, enabled_integrations: row.integrations, sdk_attested: row.attestations > 0 };
}
