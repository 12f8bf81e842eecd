"""The doctor: why a `.grad` is None or NaN (`rebours.explain`), and graph pictures (`viz`)."""
