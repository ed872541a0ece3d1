//! A map from lock ids to small values, for the parked-lock table's shards
//! (see `detect::pending`): open addressing with linear probing, and
//! removal by shifting the entries after the removed one back (no
//! tombstones, so a table that parks and forgets one lock after another
//! never fills up with them).
//!
//! Written out rather than a `HashMap` because its keys are ids, unique,
//! never 0 and spread by one multiplication, and because of what
//! `create_drop` paid for hashbrown's generality: an insert and a removal
//! per short-lived lock were about 130 instructions in a release build and
//! 2,350 at opt-level 0 (its SIMD group probes are calls there), against
//! about 65 and 480 for this (callgrind).

use super::local::LockId;

/// Ids to values of type `V`. Id 0 marks an empty slot and is never a key.
pub(crate) struct IdMap<V: Copy> {
    /// A power of two of slots, or none before the first insert.
    slots: Vec<(LockId, V)>,
    len: usize,
    /// What an empty slot holds besides the 0 id.
    empty: V,
}

/// The fewest slots a table that holds anything has.
const MIN_SLOTS: usize = 16;

impl<V: Copy> IdMap<V> {
    /// An empty map; `empty` fills the value of empty slots.
    pub(crate) const fn new(empty: V) -> Self {
        IdMap {
            slots: Vec::new(),
            len: 0,
            empty,
        }
    }

    /// Where `id`'s probe starts. Ids come in per-thread blocks of
    /// consecutive numbers: the multiplication spreads them, and its high
    /// bits are the well-mixed ones.
    #[inline]
    fn home(&self, id: LockId) -> usize {
        (id.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & (self.slots.len() - 1)
    }

    /// The slot holding `id`, if any.
    #[inline]
    fn find(&self, id: LockId) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(id);
        loop {
            match self.slots[i].0 {
                key if key == id => return Some(i),
                0 => return None,
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Sets `id`'s value (`id` is not 0).
    pub(crate) fn insert(&mut self, id: LockId, value: V) {
        debug_assert!(id != 0, "id 0 marks an empty slot");
        // At most half full, so probes stay short (counting `id` as new:
        // a replacement may grow the table one insert early).
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(id);
        loop {
            match self.slots[i].0 {
                key if key == id => {
                    self.slots[i].1 = value;
                    return;
                }
                0 => break,
                _ => i = (i + 1) & mask,
            }
        }
        self.slots[i] = (id, value);
        self.len += 1;
    }

    /// Twice the slots (or the first ones), every entry placed again.
    #[cold]
    fn grow(&mut self) {
        let cap = (self.slots.len() * 2).max(MIN_SLOTS);
        let old = std::mem::replace(&mut self.slots, vec![(0, self.empty); cap]);
        self.len = 0;
        for (id, value) in old {
            if id != 0 {
                self.insert(id, value);
            }
        }
    }

    /// `id`'s value, if it has one.
    pub(crate) fn get(&self, id: LockId) -> Option<V> {
        self.find(id).map(|i| self.slots[i].1)
    }

    /// Removes `id`, returning its value if it had one.
    pub(crate) fn remove(&mut self, id: LockId) -> Option<V> {
        let mut hole = self.find(id)?;
        let value = self.slots[hole].1;
        let mask = self.slots.len() - 1;
        // Each entry after the hole, up to the next empty slot, moves into
        // the hole unless its probe starts after the hole (cyclically, up
        // to where it is): then it is reachable without passing the hole.
        let mut next = (hole + 1) & mask;
        while self.slots[next].0 != 0 {
            let home = self.home(self.slots[next].0);
            let stays = if hole <= next {
                hole < home && home <= next
            } else {
                hole < home || home <= next
            };
            if !stays {
                self.slots[hole] = self.slots[next];
                hole = next;
            }
            next = (next + 1) & mask;
        }
        self.slots[hole] = (0, self.empty);
        self.len -= 1;
        Some(value)
    }

    /// Every entry, its value to change in place.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (LockId, &mut V)> {
        self.slots
            .iter_mut()
            .filter(|(id, _)| *id != 0)
            .map(|(id, value)| (*id, value))
    }

    /// How many entries there are.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::IdMap;

    /// A small deterministic generator (xorshift), so a failure repeats.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// Random inserts, removals and lookups agree with a `HashMap` at every
    /// step: ids from a few consecutive blocks (as threads allocate them),
    /// so probe runs cluster and wrap around the table's end.
    #[test]
    fn agrees_with_a_hash_map_under_random_inserts_and_removals() {
        for seed in 1..=20u64 {
            let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1);
            let mut map = IdMap::new(0u32);
            let mut model = HashMap::new();
            for step in 0..4_000u32 {
                let id = 1 + (rng.next() % 4) * 64 + rng.next() % 48;
                match rng.next() % 3 {
                    0 | 1 if model.len() < 120 => {
                        map.insert(id, step);
                        model.insert(id, step);
                    }
                    _ => assert_eq!(map.remove(id), model.remove(&id), "seed {seed}"),
                }
                let probe = 1 + (rng.next() % 4) * 64 + rng.next() % 48;
                assert_eq!(map.get(probe), model.get(&probe).copied(), "seed {seed}");
                assert_eq!(map.len(), model.len());
            }
            let mut all: Vec<_> = map.iter_mut().map(|(id, v)| (id, *v)).collect();
            all.sort_unstable();
            let mut expected: Vec<_> = model.into_iter().collect();
            expected.sort_unstable();
            assert_eq!(all, expected, "seed {seed}");
        }
    }

    #[test]
    fn an_empty_map_finds_nothing_and_values_change_in_place() {
        let mut map = IdMap::new(0u32);
        assert_eq!(map.get(7), None);
        assert_eq!(map.remove(7), None);
        map.insert(7, 1);
        map.insert(7, 2);
        assert_eq!((map.get(7), map.len()), (Some(2), 1));
        for (_, value) in map.iter_mut() {
            *value = 3;
        }
        assert_eq!(map.remove(7), Some(3));
        assert_eq!((map.get(7), map.len()), (None, 0));
    }
}
