"""Writes ``orders.csv``: a year of made-up historical orders, the kind of export a shop's
database gives, with its own column names and a day-first date format.

    python -m examples.import_csv.make_orders orders.csv --rows 5000
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random

PRODUCTS = {"starter": 9.0, "pro": 29.0, "team": 99.0, "enterprise": 299.0}


def write(path: str, rows: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    start = dt.datetime(2023, 1, 1)
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["customer", "action", "ordered_at", "product", "amount", "country"])
        for n in range(rows):
            product = rng.choice(list(PRODUCTS))
            when = start + dt.timedelta(minutes=rng.randrange(365 * 24 * 60))
            writer.writerow(
                [
                    f"cust-{rng.randrange(rows // 4 + 1)}",
                    "Order completed",
                    when.strftime("%d/%m/%Y %H:%M"),
                    product,
                    f"{PRODUCTS[product]:.2f}",
                    rng.choice(["DE", "FR", "US", "GB", "BR"]),
                ]
            )
            if n % 997 == 996:  # a broken export line now and then: no date
                writer.writerow([f"cust-{n}", "Order completed", "", product, "1.00", "DE"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m examples.import_csv.make_orders")
    parser.add_argument("path")
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()
    write(args.path, args.rows)
