//! A cache of user names and one of scores, each a `DashMap`.

use dashmap::DashMap;

pub struct Registry {
    pub names: DashMap<u32, String>,
    pub scores: DashMap<u32, u64>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry {
            names: DashMap::new(),
            scores: DashMap::new(),
        }
    }

    /// Renames a user while looking at the old name: the `Ref` keeps its
    /// shard read-locked, and the insert write-locks the same shard.
    pub fn rename_in_place(&self, id: u32, suffix: &str) {
        if let Some(old) = self.names.get(&id) {
            self.names.insert(id, format!("{}{suffix}", *old));
        }
    }

    /// The same, with the `Ref` dropped before the insert.
    pub fn rename(&self, id: u32, suffix: &str) {
        let new = self.names.get(&id).map(|old| format!("{}{suffix}", *old));
        if let Some(new) = new {
            self.names.insert(id, new);
        }
    }

    /// Holds a name while it updates the score: `names` then `scores`.
    pub fn score_by_name(&self, id: u32) {
        if let Some(name) = self.names.get(&id) {
            self.scores.insert(id, name.len() as u64);
        }
    }

    /// Holds a score while it updates the name: `scores` then `names`.
    pub fn name_by_score(&self, id: u32) {
        if let Some(score) = self.scores.get(&id) {
            self.names.insert(id, format!("player-{}", *score));
        }
    }

    /// `name_by_score` in the other order: `names` then `scores`.
    pub fn name_by_score_ordered(&self, id: u32) {
        let mut name = self.names.entry(id).or_default();
        if let Some(score) = self.scores.get(&id) {
            *name = format!("player-{}", *score);
        }
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}
