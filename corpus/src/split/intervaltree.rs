//! The `intervaltree` 3.x package (Node AVL tree + IntervalTree.envelop) that medkit's
//! DocumentSplitter uses, ported step for step with CPython set semantics, so that the entities of
//! a sentence come out in the order medkit writes them.

use super::pyset::{tuple_hash, PySet};
use std::collections::BTreeMap;

struct Node {
    x_center: u64,
    s_center: PySet,
    left: Option<usize>,
    right: Option<usize>,
    depth: i64,
    balance: i64,
}

/// Intervals `[begin, end)` by id; `envelop` gives ids in Python's set iteration order.
#[derive(Default)]
pub struct IntervalTree {
    nodes: Vec<Node>,
    ivs: Vec<(u64, u64, u64)>, // begin, end, hash
    top: Option<usize>,
    boundaries: BTreeMap<u64, usize>,
}

impl IntervalTree {
    fn iv(&self, id: usize) -> (u64, u64) {
        (self.ivs[id].0, self.ivs[id].1)
    }
    fn h(&self, id: usize) -> u64 {
        self.ivs[id].2
    }
    fn child(&self, n: usize, right: bool) -> Option<usize> {
        if right {
            self.nodes[n].right
        } else {
            self.nodes[n].left
        }
    }
    fn set_child(&mut self, n: usize, right: bool, c: Option<usize>) {
        if right {
            self.nodes[n].right = c;
        } else {
            self.nodes[n].left = c;
        }
    }
    fn center_hit(&self, n: usize, id: usize) -> bool {
        let (b, e) = self.iv(id);
        let x = self.nodes[n].x_center;
        b <= x && x < e
    }
    fn hit_branch(&self, n: usize, id: usize) -> bool {
        self.iv(id).0 > self.nodes[n].x_center
    }

    /// `Node(x_center, s_center)`: the set is built by adding in the given order.
    fn new_node(&mut self, x_center: u64, ids: &[usize]) -> usize {
        let mut s = PySet::default();
        for &i in ids {
            s.add(i, self.h(i));
        }
        self.nodes.push(Node {
            x_center,
            s_center: s,
            left: None,
            right: None,
            depth: 0,
            balance: 0,
        });
        let n = self.nodes.len() - 1;
        self.refresh_balance(n); // __init__ calls rotate(), a no-op for a leaf
        n
    }

    fn refresh_balance(&mut self, n: usize) {
        let d = |c: Option<usize>| c.map_or(0, |c| self.nodes[c].depth);
        let (l, r) = (d(self.nodes[n].left), d(self.nodes[n].right));
        self.nodes[n].depth = 1 + l.max(r);
        self.nodes[n].balance = r - l;
    }

    fn rotate(&mut self, n: usize) -> usize {
        self.refresh_balance(n);
        if self.nodes[n].balance.abs() < 2 {
            return n;
        }
        let my_heavy = self.nodes[n].balance > 0;
        let Some(c) = self.child(n, my_heavy) else {
            return n;
        };
        let child_heavy = self.nodes[c].balance > 0;
        if my_heavy == child_heavy || self.nodes[c].balance == 0 {
            self.srotate(n)
        } else {
            self.drotate(n)
        }
    }

    fn srotate(&mut self, n: usize) -> usize {
        let heavy = self.nodes[n].balance > 0;
        let light = !heavy;
        let Some(save) = self.child(n, heavy) else {
            return n;
        };
        let c = self.child(save, light);
        self.set_child(n, heavy, c);
        let r = self.rotate(n);
        self.set_child(save, light, Some(r));
        let promotees: Vec<usize> = self.nodes[r]
            .s_center
            .iter()
            .map(|(k, _)| k)
            .filter(|&k| self.center_hit(save, k))
            .collect();
        if !promotees.is_empty() {
            for &iv in &promotees {
                if let Some(l) = self.child(save, light) {
                    let nl = self.remove(l, iv);
                    self.set_child(save, light, nl);
                }
            }
            for &iv in &promotees {
                let h = self.h(iv);
                self.nodes[save].s_center.add(iv, h);
            }
        }
        self.refresh_balance(save);
        save
    }

    fn drotate(&mut self, n: usize) -> usize {
        let my_heavy = self.nodes[n].balance > 0;
        if let Some(c) = self.child(n, my_heavy) {
            let r = self.srotate(c);
            self.set_child(n, my_heavy, Some(r));
        }
        self.refresh_balance(n);
        self.srotate(n)
    }

    fn node_add(&mut self, n: usize, id: usize) -> usize {
        if self.center_hit(n, id) {
            let h = self.h(id);
            self.nodes[n].s_center.add(id, h);
            return n;
        }
        let dir = self.hit_branch(n, id);
        match self.child(n, dir) {
            None => {
                let c = self.new_node(self.iv(id).0, &[id]);
                self.set_child(n, dir, Some(c));
                self.refresh_balance(n);
                n
            }
            Some(c) => {
                let r = self.node_add(c, id);
                self.set_child(n, dir, Some(r));
                self.rotate(n)
            }
        }
    }

    fn remove(&mut self, n: usize, id: usize) -> Option<usize> {
        let mut done = false;
        self.remove_helper(n, id, &mut done)
    }

    fn remove_helper(&mut self, n: usize, id: usize, done: &mut bool) -> Option<usize> {
        if self.center_hit(n, id) {
            let h = self.h(id);
            self.nodes[n].s_center.discard(id, h);
            if !self.nodes[n].s_center.is_empty() {
                *done = true;
                return Some(n);
            }
            return self.prune(n);
        }
        let dir = self.hit_branch(n, id);
        let Some(c) = self.child(n, dir) else {
            *done = true;
            return Some(n);
        };
        let r = self.remove_helper(c, id, done);
        self.set_child(n, dir, r);
        if !*done {
            return Some(self.rotate(n));
        }
        Some(n)
    }

    fn prune(&mut self, n: usize) -> Option<usize> {
        let (l, r) = (self.nodes[n].left, self.nodes[n].right);
        let (Some(l), Some(_)) = (l, r) else {
            return if l.is_none() { r } else { l };
        };
        let (heir, new_left) = self.pop_greatest_child(l);
        self.nodes[n].left = new_left;
        self.nodes[heir].left = self.nodes[n].left;
        self.nodes[heir].right = self.nodes[n].right;
        self.refresh_balance(heir);
        Some(self.rotate(heir))
    }

    fn pop_greatest_child(&mut self, n: usize) -> (usize, Option<usize>) {
        match self.nodes[n].right {
            None => {
                let mut ivs: Vec<usize> = self.nodes[n].s_center.iter().map(|(k, _)| k).collect();
                // sorted by (end, begin), stable over the set order
                ivs.sort_by_key(|&k| (self.iv(k).1, self.iv(k).0));
                let max_end = ivs.last().map_or(0, |&k| self.iv(k).1);
                let mut x = self.nodes[n].x_center;
                for &k in &ivs[..ivs.len().saturating_sub(1)] {
                    let e = self.iv(k).1;
                    if e != max_end {
                        x = x.max(e);
                    }
                }
                let members: Vec<usize> = self.nodes[n]
                    .s_center
                    .iter()
                    .map(|(k, _)| k)
                    .filter(|&k| {
                        let (b, e) = self.iv(k);
                        b <= x && x < e
                    })
                    .collect();
                let child = self.new_node(x, &members);
                let cs = self.nodes[child].s_center.clone();
                self.nodes[n].s_center.difference_update(&cs);
                if !self.nodes[n].s_center.is_empty() {
                    (child, Some(n))
                } else {
                    (child, self.nodes[n].left)
                }
            }
            Some(r) => {
                let (gc, new_r) = self.pop_greatest_child(r);
                self.nodes[n].right = new_r;
                let copy = PySet::copy_of(&self.nodes[n].s_center);
                let gx = self.nodes[gc].x_center;
                for (k, h) in copy.iter() {
                    let (b, e) = self.iv(k);
                    if b <= gx && gx < e {
                        self.nodes[n].s_center.discard(k, h);
                        self.nodes[gc].s_center.add(k, h); // Node.add: a center hit
                    }
                }
                if !self.nodes[n].s_center.is_empty() {
                    self.refresh_balance(n);
                    let ns = self.rotate(n);
                    (gc, Some(ns))
                } else {
                    let ns = self.prune(n);
                    (gc, ns)
                }
            }
        }
    }

    fn search_point(&self, n: usize, point: u64, result: &mut PySet) {
        let mut n = n;
        loop {
            for (k, h) in self.nodes[n].s_center.iter() {
                let (b, e) = self.iv(k);
                if b <= point && point < e {
                    result.add(k, h);
                }
            }
            let x = self.nodes[n].x_center;
            let next = if point < x {
                self.nodes[n].left
            } else if point > x {
                self.nodes[n].right
            } else {
                None
            };
            match next {
                Some(c) => n = c,
                None => return,
            }
        }
    }

    /// `tree.addi(begin, end, data)`; returns the id, or None for a null interval (which
    /// intervaltree refuses).
    pub fn addi(&mut self, begin: u64, end: u64) -> Option<usize> {
        if begin >= end {
            return None;
        }
        self.ivs.push((begin, end, tuple_hash(begin, end)));
        let id = self.ivs.len() - 1;
        self.top = Some(match self.top {
            None => self.new_node(begin, &[id]),
            Some(t) => self.node_add(t, id),
        });
        *self.boundaries.entry(begin).or_default() += 1;
        *self.boundaries.entry(end).or_default() += 1;
        Some(id)
    }

    /// `tree.envelop(begin, end)` iterated: ids of intervals inside `[begin, end)`.
    pub fn envelop(&self, begin: u64, end: u64) -> Vec<usize> {
        let Some(root) = self.top else {
            return Vec::new();
        };
        if begin >= end {
            return Vec::new();
        }
        let mut result = PySet::default();
        self.search_point(root, begin, &mut result);
        let mut overlap = PySet::default();
        for (&p, _) in self.boundaries.range(begin..end) {
            self.search_point(root, p, &mut overlap);
        }
        result.merge(&overlap);
        let mut fin = PySet::default();
        for (k, h) in result.iter() {
            let (b, e) = self.iv(k);
            if b >= begin && e <= end {
                fin.add(k, h);
            }
        }
        fin.iter().map(|(k, _)| k).collect()
    }
}
