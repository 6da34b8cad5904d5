//! The request mix: which endpoints `tetrad load` calls and how often. Mostly cheap successes and
//! item lookups, with some slow, 4xx, 5xx and panicking requests, so every dashboard panel gets
//! data. The order is a smooth weighted round robin rather than random: within any run of
//! [`CYCLE`] requests every endpoint comes up exactly its weight's number of times, so even a
//! two-second run covers them all.

/// One endpoint of the mix.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// Label in the summary: the route template.
    pub label: &'static str,
    /// Share of the requests, out of [`CYCLE`].
    pub weight: u32,
}

/// The endpoints, in the order the summary lists them.
pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        label: "/",
        weight: 10,
    },
    Endpoint {
        label: "/items/{id}",
        weight: 12,
    },
    Endpoint {
        label: "/health",
        weight: 4,
    },
    Endpoint {
        label: "/slow",
        weight: 3,
    },
    Endpoint {
        label: "/fail",
        weight: 5,
    },
    Endpoint {
        label: "/error",
        weight: 4,
    },
    Endpoint {
        label: "/panic",
        weight: 2,
    },
];

/// The sum of the weights: the period of the mix.
pub const CYCLE: u32 = 40;

/// Item ids cycle through 1..=ITEM_IDS; the multiples of 7 among them are the demo's 404s.
const ITEM_IDS: u64 = 100;

/// Hands out the next request of the mix.
#[derive(Debug)]
pub struct Mix {
    /// Smooth weighted round robin credit per endpoint.
    credit: Vec<i64>,
    next_item: u64,
}

impl Default for Mix {
    fn default() -> Self {
        Mix {
            credit: vec![0; ENDPOINTS.len()],
            next_item: 0,
        }
    }
}

impl Mix {
    /// The next request: the endpoint's index in [`ENDPOINTS`] and the path to call.
    pub fn next_request(&mut self) -> (usize, String) {
        // Every endpoint earns its weight; the richest is picked and pays the whole cycle.
        for (credit, endpoint) in self.credit.iter_mut().zip(ENDPOINTS) {
            *credit += i64::from(endpoint.weight);
        }
        let mut pick = 0;
        for (i, &credit) in self.credit.iter().enumerate() {
            if credit > self.credit[pick] {
                pick = i;
            }
        }
        self.credit[pick] -= i64::from(CYCLE);
        let path = match ENDPOINTS[pick].label {
            "/items/{id}" => {
                self.next_item = self.next_item % ITEM_IDS + 1;
                format!("/items/{}", self.next_item)
            }
            label => label.to_string(),
        };
        (pick, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_the_cycle() {
        assert_eq!(ENDPOINTS.iter().map(|e| e.weight).sum::<u32>(), CYCLE);
    }

    #[test]
    fn every_cycle_has_each_endpoint_weight_times() {
        let mut mix = Mix::default();
        for _ in 0..3 {
            let mut seen = vec![0u32; ENDPOINTS.len()];
            for _ in 0..CYCLE {
                seen[mix.next_request().0] += 1;
            }
            let weights: Vec<u32> = ENDPOINTS.iter().map(|e| e.weight).collect();
            assert_eq!(seen, weights);
        }
    }

    #[test]
    fn item_ids_vary_and_include_missing_ones() {
        let mut mix = Mix::default();
        let items: Vec<String> = (0..CYCLE * 3)
            .map(|_| mix.next_request())
            .filter(|(i, _)| ENDPOINTS[*i].label == "/items/{id}")
            .map(|(_, path)| path)
            .collect();
        assert_eq!(items[0], "/items/1");
        assert!(items.contains(&"/items/7".to_string()));
        assert!(items.contains(&"/items/36".to_string()));
    }
}
