def load_users(db):
    rows = db.query("users")
    return [dict(r) for r in rows]


def load_orders(db):
    rows = db.query("orders")
    result = [dict(r) for r in rows]
    return sorted(result, key=lambda r: r["id"])
