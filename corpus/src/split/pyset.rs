//! CPython 3.11's set (Objects/setobject.c), enough of it to reproduce its iteration order:
//! medkit's DocumentSplitter orders a sentence's entities by iterating Python sets of
//! intervaltree `Interval`s, whose hash is `hash((begin, end))`.

const PERTURB_SHIFT: u32 = 5;
const LINEAR_PROBES: usize = 9;
const MINSIZE: usize = 8;

#[derive(Clone, Copy, PartialEq)]
enum Slot {
    Unused,
    Dummy,
    Key(usize, u64),
}

/// A set of keys (interval ids, compared by identity as Python does first) with their hashes.
#[derive(Clone)]
pub struct PySet {
    table: Vec<Slot>,
    fill: usize,
    used: usize,
}

impl Default for PySet {
    fn default() -> Self {
        PySet {
            table: vec![Slot::Unused; MINSIZE],
            fill: 0,
            used: 0,
        }
    }
}

/// CPython's `tuplehash` of `(a, b)` for small non-negative ints (whose hash is themselves).
pub fn tuple_hash(a: u64, b: u64) -> u64 {
    const P1: u64 = 11400714785074694791;
    const P2: u64 = 14029467366897019727;
    const P5: u64 = 2870177450012600261;
    let mut acc = P5;
    for lane in [a, b] {
        acc = acc.wrapping_add(lane.wrapping_mul(P2));
        acc = acc.rotate_left(31);
        acc = acc.wrapping_mul(P1);
    }
    acc = acc.wrapping_add(2 ^ (P5 ^ 3527539));
    if acc == u64::MAX {
        1546275796
    } else {
        acc
    }
}

impl PySet {
    fn mask(&self) -> usize {
        self.table.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.used == 0
    }

    /// Keys in iteration (slot) order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.table.iter().filter_map(|s| match *s {
            Slot::Key(k, h) => Some((k, h)),
            _ => None,
        })
    }

    fn lookup(&self, key: usize, hash: u64) -> Option<usize> {
        let mask = self.mask();
        let mut i = (hash as usize) & mask;
        let mut perturb = hash;
        loop {
            let probes = if i + LINEAR_PROBES <= mask {
                LINEAR_PROBES
            } else {
                0
            };
            for j in 0..=probes {
                match self.table[i + j] {
                    Slot::Unused => return None,
                    Slot::Key(k, _) if k == key => return Some(i + j),
                    _ => {}
                }
            }
            perturb >>= PERTURB_SHIFT;
            i = (i
                .wrapping_mul(5)
                .wrapping_add(1)
                .wrapping_add(perturb as usize))
                & mask;
        }
    }

    /// `set_add_entry`. A dummy slot on the probe path is reused, the last one seen before an
    /// unused slot (checked against CPython 3.11 by reading its set tables), which decides where a
    /// re-added key lands.
    pub fn add(&mut self, key: usize, hash: u64) {
        let mask = self.mask();
        let mut i = (hash as usize) & mask;
        let mut perturb = hash;
        let mut freeslot: Option<usize> = None;
        let slot = 'search: loop {
            let probes = if i + LINEAR_PROBES <= mask {
                LINEAR_PROBES
            } else {
                0
            };
            for j in 0..=probes {
                match self.table[i + j] {
                    Slot::Unused => break 'search i + j,
                    Slot::Key(k, _) if k == key => return,
                    Slot::Dummy => freeslot = Some(i + j),
                    _ => {}
                }
            }
            perturb >>= PERTURB_SHIFT;
            i = (i
                .wrapping_mul(5)
                .wrapping_add(1)
                .wrapping_add(perturb as usize))
                & mask;
        };
        if let Some(f) = freeslot {
            self.used += 1;
            self.table[f] = Slot::Key(key, hash);
            return;
        }
        self.fill += 1;
        self.used += 1;
        self.table[slot] = Slot::Key(key, hash);
        if self.fill * 5 >= mask * 3 {
            self.resize(if self.used > 50000 {
                self.used * 2
            } else {
                self.used * 4
            });
        }
    }

    /// `set_discard_entry`: leaves a dummy.
    pub fn discard(&mut self, key: usize, hash: u64) -> bool {
        match self.lookup(key, hash) {
            Some(i) => {
                self.table[i] = Slot::Dummy;
                self.used -= 1;
                true
            }
            None => false,
        }
    }

    fn insert_clean(table: &mut [Slot], key: usize, hash: u64) {
        let mask = table.len() - 1;
        let mut i = (hash as usize) & mask;
        let mut perturb = hash;
        loop {
            if table[i] == Slot::Unused {
                table[i] = Slot::Key(key, hash);
                return;
            }
            if i + LINEAR_PROBES <= mask {
                for j in 1..=LINEAR_PROBES {
                    if table[i + j] == Slot::Unused {
                        table[i + j] = Slot::Key(key, hash);
                        return;
                    }
                }
            }
            perturb >>= PERTURB_SHIFT;
            i = (i
                .wrapping_mul(5)
                .wrapping_add(1)
                .wrapping_add(perturb as usize))
                & mask;
        }
    }

    /// `set_table_resize`.
    fn resize(&mut self, minused: usize) {
        let mut newsize = MINSIZE;
        while newsize <= minused {
            newsize <<= 1;
        }
        let old = std::mem::replace(&mut self.table, vec![Slot::Unused; newsize]);
        self.fill = self.used;
        for s in old {
            if let Slot::Key(k, h) = s {
                Self::insert_clean(&mut self.table, k, h);
            }
        }
    }

    /// `set_merge` (`set(other)`, `s.update(other)` with a set argument).
    pub fn merge(&mut self, other: &PySet) {
        if other.used == 0 {
            return;
        }
        if (self.fill + other.used) * 5 >= self.mask() * 3 {
            self.resize((self.used + other.used) * 2);
        }
        if self.fill == 0 && self.mask() == other.mask() && other.fill == other.used {
            self.table.clone_from(&other.table);
            self.fill = other.fill;
            self.used = other.used;
            return;
        }
        if self.fill == 0 {
            self.fill = other.used;
            self.used = other.used;
            for s in &other.table {
                if let Slot::Key(k, h) = *s {
                    Self::insert_clean(&mut self.table, k, h);
                }
            }
            return;
        }
        for s in &other.table {
            if let Slot::Key(k, h) = *s {
                self.add(k, h);
            }
        }
    }

    /// `set(other_set)`: a copy as Python makes it (which may reorder).
    pub fn copy_of(other: &PySet) -> PySet {
        let mut s = PySet::default();
        s.merge(other);
        s
    }

    /// `self -= other` (`set_difference_update_internal` with a set argument).
    pub fn difference_update(&mut self, other: &PySet) {
        // CPython swaps in the intersection when `other` is much larger; the removed keys are the same
        let keys: Vec<(usize, u64)> = other.iter().collect();
        for (k, h) in keys {
            self.discard(k, h);
        }
        if self.fill - self.used > self.mask() / 4 {
            self.resize(if self.used > 50000 {
                self.used * 2
            } else {
                self.used * 4
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_order_as_cpython() {
        // python3.11 -c "print(hash((1, 2)), hash((123, 4567)))"
        assert_eq!(tuple_hash(1, 2) as i64, -3550055125485641917);
        assert_eq!(tuple_hash(123, 4567) as i64, 5748307059945589616);
        // s = set(); for i in range(20): s.add((i, i + 3)); print(list(s))
        let mut s = PySet::default();
        for i in 0..20 {
            s.add(i, tuple_hash(i as u64, i as u64 + 3));
        }
        let order: Vec<usize> = s.iter().map(|(k, _)| k).collect();
        assert_eq!(
            order,
            [11, 2, 7, 16, 12, 3, 6, 8, 17, 13, 18, 4, 5, 14, 0, 9, 1, 10, 19, 15]
        );
    }
    /// Random add / discard / copy / `-=` sequences with colliding hashes, replayed against the
    /// final iteration order CPython 3.11 gave (tests/data/corpus/pyset_cases.txt, see
    /// make_fixtures.py): `hashes|ops|order`.
    #[test]
    fn replays_cpython_sets() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/data/corpus/pyset_cases.txt"
        );
        let text = std::fs::read_to_string(path).expect("pyset_cases.txt");
        let num = |x: &str| x.parse::<usize>().expect("number");
        for (n, line) in text.lines().enumerate() {
            let parts: Vec<&str> = line.split('|').collect();
            let hs: Vec<u64> = parts[0]
                .split(',')
                .map(|x| x.parse().expect("hash"))
                .collect();
            let mut s = PySet::default();
            for op in parts[1].split(' ').filter(|x| !x.is_empty()) {
                let (c, rest) = op.split_at(1);
                match c {
                    "a" => s.add(num(rest), hs[num(rest)]),
                    "d" => {
                        s.discard(num(rest), hs[num(rest)]);
                    }
                    "c" => s = PySet::copy_of(&s),
                    _ => {
                        let mut o = PySet::default();
                        for k in rest.split(',').filter(|x| !x.is_empty()) {
                            o.add(num(k), hs[num(k)]);
                        }
                        s.difference_update(&o);
                    }
                }
            }
            let got: Vec<String> = s.iter().map(|(k, _)| k.to_string()).collect();
            assert_eq!(got.join(","), parts[2], "case {n}");
        }
    }
}
