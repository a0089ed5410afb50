def load_users(db):
    rows = db.query("users")
    return [dict(r) for r in rows]


def load_orders(db):
    rows = db.query("orders")
    return [dict(r) for r in rows]
