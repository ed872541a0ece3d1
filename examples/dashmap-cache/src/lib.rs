//! A memoising cache over a `DashMap`, with invalidation: an entry from an
//! older generation is stale and computed again.

use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;

#[derive(Default)]
pub struct Cache {
    /// word -> (its length, the generation it was computed in)
    lengths: DashMap<String, (usize, u64)>,
    generation: AtomicU64,
}

impl Cache {
    /// Makes every entry stale.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::Relaxed);
    }

    /// The length of `word`, from the cache if fresh.
    pub fn get_or_insert(&self, word: &str) -> usize {
        let now = self.generation.load(Ordering::Relaxed);
        if cfg!(feature = "fixed") {
            // The `Ref` ends with this statement, before the insert.
            let cached = self.lengths.get(word).map(|entry| *entry);
            if let Some((len, generation)) = cached
                && generation == now
            {
                return len;
            }
            self.insert(word, now)
        } else {
            match self.lengths.get(word) {
                Some(entry) if entry.1 == now => entry.0,
                // Bug: the scrutinee (`Option<Ref>`) lives to the end of
                // the `match`, so on a stale hit its shard is still
                // read-locked here, and `insert` write-locks the same
                // shard: the thread waits for itself.
                _ => self.insert(word, now),
            }
        }
    }

    fn insert(&self, word: &str, now: u64) -> usize {
        let len = word.chars().count();
        self.lengths.insert(word.to_owned(), (len, now));
        len
    }
}
