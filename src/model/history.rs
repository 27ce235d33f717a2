//! Bounded histories of recent samples, one ring per figure, for sparklines.

use std::collections::VecDeque;

/// How many samples a history keeps (one per stats tick).
pub const HISTORY_LEN: usize = 60;

/// Which figure a history holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatKind {
    /// Guest-normalised CPU %.
    Cpu,
    /// Memory in use, KiB.
    Memory,
    /// Disk read, bytes/s.
    DiskRead,
    /// Disk write, bytes/s.
    DiskWrite,
    /// Network received, bytes/s.
    NetRx,
    /// Network sent, bytes/s.
    NetTx,
}

impl StatKind {
    /// All kinds, in ring order.
    pub const ALL: [StatKind; 6] = [
        StatKind::Cpu,
        StatKind::Memory,
        StatKind::DiskRead,
        StatKind::DiskWrite,
        StatKind::NetRx,
        StatKind::NetTx,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// One ring per [`StatKind`], each at most `cap` long (oldest first).
#[derive(Debug, Clone)]
pub struct History {
    cap: usize,
    rings: [VecDeque<f64>; 6],
}

impl Default for History {
    fn default() -> Self {
        History::new(HISTORY_LEN)
    }
}

impl History {
    /// Empty histories of `cap` samples.
    pub fn new(cap: usize) -> Self {
        History {
            cap,
            rings: Default::default(),
        }
    }

    /// Appends one sample, dropping the oldest when full.
    pub fn push(&mut self, kind: StatKind, v: f64) {
        let ring = &mut self.rings[kind.index()];
        if ring.len() == self.cap {
            ring.pop_front();
        }
        ring.push_back(v);
    }

    /// The samples of `kind`, oldest first.
    pub fn get(&self, kind: StatKind) -> Vec<f64> {
        self.rings[kind.index()].iter().copied().collect()
    }

    /// Element-wise sum of two histories (e.g. disk read + write).
    pub fn sum(&self, a: StatKind, b: StatKind) -> Vec<f64> {
        let (a, b) = (&self.rings[a.index()], &self.rings[b.index()]);
        a.iter().zip(b.iter()).map(|(x, y)| x + y).collect()
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.rings.iter_mut().for_each(VecDeque::clear);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_is_bounded_and_ordered() {
        let mut h = History::new(3);
        for v in 0..5 {
            h.push(StatKind::Cpu, f64::from(v));
            h.push(StatKind::DiskRead, 1.0);
            h.push(StatKind::DiskWrite, f64::from(v));
        }
        assert_eq!(h.get(StatKind::Cpu), vec![2.0, 3.0, 4.0]);
        assert_eq!(
            h.sum(StatKind::DiskRead, StatKind::DiskWrite),
            vec![3.0, 4.0, 5.0]
        );
        assert!(h.get(StatKind::NetRx).is_empty());
        h.clear();
        assert!(h.get(StatKind::Cpu).is_empty());
    }
}
