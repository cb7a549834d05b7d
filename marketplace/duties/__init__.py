"""Duties and import taxes of cross-border parcels: destination rules as versioned data with their legal
sources (`rules`), and the pure computation of a parcel's charges under a rule (`calculation`)."""
