import { useEffect } from 'react';
import { formatBytes } from '../format.ts';
import { storedKeyOf, useApp } from '../state.ts';
import { Collapsible } from './Collapsible.tsx';

/** What this browser keeps: downloaded packs with their sizes (deletable), usage and quota. */
export function StoragePanel() {
  const storage = useApp((s) => s.storage);
  const packRef = useApp((s) => s.packRef);
  const pack = useApp((s) => s.pack);
  const remove = useApp((s) => s.deleteStoredPack);
  const refresh = useApp((s) => s.refreshStorage);
  useEffect(() => { void refresh(); }, [refresh]);
  if (!storage) return null;
  const inUse = pack ? storedKeyOf(packRef) : null;
  return (
    <Collapsible panel="storage" title="Storage" className="card storage" folded={storage.usage !== undefined ? `${formatBytes(storage.usage)} used · ${storage.packs.length} downloaded pack${storage.packs.length === 1 ? '' : 's'}` : undefined}>
      <p className="muted small">
        {storage.usage !== undefined && storage.quota ? `This site uses ${formatBytes(storage.usage)} of ${formatBytes(storage.quota)} available. ` : ''}
        {storage.persisted ? 'Downloads are kept until you delete them.' : 'The browser may clear downloads when disk space runs low.'}
        {storage.kind === 'memory' ? ' This browser offers no storage here: packs are downloaded again on every visit.' : ''}
      </p>
      {storage.packs.length === 0 ? (
        <p className="muted">No downloaded packs.</p>
      ) : (
        <ul className="stored-packs">
          {storage.packs.map((p) => (
            <li key={p.key} aria-label={`Stored pack ${p.name}`}>
              <div className="what">
                <strong>{p.name}</strong>
                <span className="muted small">{p.complete ? formatBytes(p.bytes) : `${formatBytes(p.bytes)} of ${formatBytes(p.totalBytes)} (incomplete)`} · {p.origin}</span>
              </div>
              <button type="button" className="secondary" disabled={p.key === inUse} title={p.key === inUse ? 'In use' : undefined} onClick={() => void remove(p.key)}>
                {p.key === inUse ? 'In use' : 'Delete'}
              </button>
            </li>
          ))}
        </ul>
      )}
    </Collapsible>
  );
}
