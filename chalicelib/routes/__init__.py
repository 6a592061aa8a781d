"""REST routes by audience, as Chalice Blueprints that app.py registers (wiring only, like app.py).

``review``: the reviewer's desk. Only app.py imports this package (.importlinter ``routes-only-in-app``).
"""
