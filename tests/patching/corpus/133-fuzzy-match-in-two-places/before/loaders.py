def load_users(db):
    rows = db.query("users")
    rows = [r for r in rows if r]
    return [dict(r) for r in rows]


def load_orders(db):
    rows = db.query("orders")
    rows = [r for r in rows if r]
    return [dict(r) for r in rows]
