"""The baseline of ``python -m bot status --asof DAY --data-dir DIR``: a plain pandas script that
reads the same four CSV files and prints the same numbers: levels on close; 1D/1W/1M/3M/YTD/1Y
returns (indices on close, ETFs on adjusted close); the RUT/SPX ratio and its 50/200-day
averages; each index's record close and the days since it. ``bench_startup`` checks that the
returns table matches the bot's, then times both as cold processes.

``python bench/naive_status.py DIR YYYY-MM-DD``
"""

import sys
from pathlib import Path

import pandas as pd

WINDOWS = {"1D": 1, "1W": 5, "1M": 21, "3M": 63, "1Y": 252}
ROWS = (("Russell 2000", "RUT", "close"), ("S&P 500", "GSPC", "close"),
        ("IWM (total return)", "IWM", "adj_close"), ("SPY (total return)", "SPY", "adj_close"))


def load(data_dir: Path, stem: str, column: str, asof: pd.Timestamp) -> pd.Series:
    frame = pd.read_csv(data_dir / f"{stem}.csv", index_col="date", parse_dates=["date"])
    series = frame[column].dropna()
    if stem == "RUT" and (data_dir / "RUT_since1979.csv").is_file():  # the older history
        old = pd.read_csv(data_dir / "RUT_since1979.csv", index_col="date",
                          parse_dates=["date"])[column].dropna()
        series = pd.concat([old[old.index < series.index[0]], series])
    return series[series.index <= asof]


def returns(series: pd.Series) -> dict[str, float]:
    end = series.iloc[-1]
    out = {name: end / series.iloc[-1 - n] - 1 for name, n in WINDOWS.items()}
    prior_year = series[series.index.year < series.index[-1].year]
    out["YTD"] = end / prior_year.iloc[-1] - 1
    return out


def main() -> None:
    data_dir, asof = Path(sys.argv[1]), pd.Timestamp(sys.argv[2])
    series = {stem: load(data_dir, stem, column, asof) for _, stem, column in ROWS}
    levels = {stem: load(data_dir, stem, "close", asof).iloc[-1] for _, stem, _ in ROWS}
    print(f"as of {series['GSPC'].index[-1].date()}")
    print(f"{'':20}{'Level':>12}" + "".join(f"{w:>9}" for w in ("1D", "1W", "1M", "3M", "YTD",
                                                                "1Y")))
    for name, stem, _ in ROWS:
        r = returns(series[stem])
        print(f"{name:20}{levels[stem]:>12,.2f}" + "".join(
            f"{r[w]:>+9.2%}" for w in ("1D", "1W", "1M", "3M", "YTD", "1Y")))
    rut = load(data_dir, "RUT", "close", asof)
    spx = load(data_dir, "GSPC", "close", asof)
    ratio = (rut / spx).dropna()
    print(f"RUT/SPX ratio {ratio.iloc[-1]:.4f}  50-day avg {ratio.iloc[-50:].mean():.4f}  "
          f"200-day avg {ratio.iloc[-200:].mean():.4f}")
    for name, prices in (("Russell 2000", rut), ("S&P 500", spx)):
        record_date = prices.idxmax()
        print(f"{name}: record {prices.max():,.2f} on {record_date.date()}, "
              f"{(prices.index[-1] - record_date).days} days ago")


if __name__ == "__main__":
    main()
