// This device's measured speed per pack (src/app/eta.ts rates), kept in localStorage so that time
// estimates exist before a run, also on a fresh load. Keyed by pack and how it runs (a pack on
// WebGPU and on wasm are different speeds).
import type { PackInfo } from '../protocol.ts';
import type { Rates } from './eta.ts';

const PREFIX = 'lavie.rates.';

const keyOf = (p: PackInfo) => `${PREFIX}${p.name}|${p.device}|${p.compute}`;

export function loadRates(pack: PackInfo): Rates {
  try {
    const v = JSON.parse(localStorage.getItem(keyOf(pack)) ?? '{}') as unknown;
    if (!v || typeof v !== 'object') return {};
    return Object.fromEntries(Object.entries(v).filter(([, r]) => typeof r === 'number' && Number.isFinite(r) && r > 0)) as Rates;
  } catch {
    return {};
  }
}

export function saveRates(pack: PackInfo, rates: Rates): void {
  try {
    localStorage.setItem(keyOf(pack), JSON.stringify(rates));
  } catch {
    // storage blocked: estimates start afresh next time
  }
}
