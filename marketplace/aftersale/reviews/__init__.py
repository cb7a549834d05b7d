"""Verified reviews: a buyer rates a delivered order line once; operators moderate; the vendor replies once;
published reviews make the product's rating and the vendor's public record."""
