//! The OpenAPI 3.0 document of a route table, built as plain JSON (the document is small and
//! fixed; a schema-generation dependency would cost more than it saves).

use crate::routes::RouteDoc;
use serde_json::{Map, Value, json};

/// An OpenAPI 3.0.3 document describing `routes`, titled `title`.
pub fn openapi_document(title: &str, routes: &[RouteDoc]) -> Value {
    let mut paths = Map::new();
    for route in routes {
        let operations = paths
            .entry(route.path.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(operations) = operations {
            operations.insert(route.method.to_ascii_lowercase(), operation(route));
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": title,
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A demo service of tetrad: each route exercises part of the dashboard.",
        },
        "paths": paths,
    })
}

fn operation(route: &RouteDoc) -> Value {
    let parameters: Vec<Value> = route
        .path_params
        .iter()
        .map(|(name, description, example)| {
            json!({
                "name": name,
                "in": "path",
                "required": true,
                "description": description,
                "schema": {"type": "integer", "format": "int64", "minimum": 0},
                "example": example,
            })
        })
        .collect();
    let responses: Map<String, Value> = route
        .responses
        .iter()
        .map(|(status, description)| (status.to_string(), json!({"description": description})))
        .collect();
    let mut op = json!({
        "summary": route.summary,
        "description": route.description,
        "operationId": operation_id(route),
        "responses": responses,
    });
    if !parameters.is_empty() {
        op["parameters"] = Value::Array(parameters);
    }
    op
}

/// `get_items_id` for `GET /items/{id}`, `get_root` for `GET /`: unique per method and path.
fn operation_id(route: &RouteDoc) -> String {
    let words: Vec<String> = route
        .path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    let tail = if words.is_empty() {
        "root".to_string()
    } else {
        words.join("_")
    };
    format!("{}_{tail}", route.method.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::{BACKEND_ROUTES, INVENTORY_ROUTES};

    #[test]
    fn every_route_is_a_path_with_its_responses() {
        let doc = openapi_document("backend", BACKEND_ROUTES);
        assert_eq!(doc["openapi"], "3.0.3");
        for route in BACKEND_ROUTES {
            let op = &doc["paths"][route.path]["get"];
            assert_eq!(op["summary"], route.summary, "{}", route.path);
            for (status, _) in route.responses {
                assert!(op["responses"][status.to_string()].is_object());
            }
        }
        let item = &doc["paths"]["/items/{id}"]["get"]["parameters"][0];
        assert_eq!(item["name"], "id");
        assert_eq!(item["in"], "path");
        assert_eq!(item["required"], true);
    }

    #[test]
    fn operation_ids_are_unique() {
        for routes in [BACKEND_ROUTES, INVENTORY_ROUTES] {
            let mut ids: Vec<String> = routes.iter().map(operation_id).collect();
            ids.sort();
            let before = ids.len();
            ids.dedup();
            assert_eq!(ids.len(), before);
        }
        assert_eq!(operation_id(&BACKEND_ROUTES[0]), "get_root");
        assert_eq!(operation_id(&BACKEND_ROUTES[1]), "get_items_id");
    }
}
