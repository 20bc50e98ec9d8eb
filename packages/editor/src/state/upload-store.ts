/**
 * Images dropped into the editor, kept in IndexedDB so that an autosaved graph still runs after a reload (the
 * worker's copies die with the page), locally or, re-uploaded when needed, on a server. Bounded: the newest MAX_KEPT uploads are kept. Every failure is ignored:
 * persistence is a convenience, and a missing upload is reported by the run ("drop the image again").
 */
export interface StoredUpload {
  id: string;
  /** The dropped file's own name (`photo.png`); absent in uploads kept by older versions. */
  name?: string;
  bytes: Uint8Array;
  type: string;
  savedAt: number;
  /** The server origin that named it (`id` is that server's upload name); absent for a local upload. */
  server?: string;
}

const DB_NAME = 'coser-editor';
const STORE = 'uploads';
const MAX_KEPT = 20;

function open(): Promise<IDBDatabase | undefined> {
  if (typeof indexedDB === 'undefined') return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'id' });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => resolve(undefined);
  });
}

function done(transaction: IDBTransaction): Promise<void> {
  return new Promise((resolve) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => resolve();
    transaction.onabort = () => resolve();
  });
}

export async function saveUpload(upload: StoredUpload): Promise<void> {
  const db = await open();
  if (!db) return;
  try {
    const all = await loadUploads(db);
    const transaction = db.transaction(STORE, 'readwrite');
    const store = transaction.objectStore(STORE);
    store.put(upload);
    const stale = all
      .filter((u) => u.id !== upload.id)
      .sort((a, b) => b.savedAt - a.savedAt)
      .slice(MAX_KEPT - 1);
    for (const old of stale) store.delete(old.id);
    await done(transaction);
  } finally {
    db.close();
  }
}

export async function loadUploads(existing?: IDBDatabase): Promise<StoredUpload[]> {
  const db = existing ?? (await open());
  if (!db) return [];
  try {
    return await new Promise<StoredUpload[]>((resolve) => {
      const request = db.transaction(STORE, 'readonly').objectStore(STORE).getAll();
      request.onsuccess = () => resolve(request.result as StoredUpload[]);
      request.onerror = () => resolve([]);
    });
  } finally {
    if (!existing) db.close();
  }
}
