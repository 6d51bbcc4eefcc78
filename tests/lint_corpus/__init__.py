"""Small workbooks with one known fault each, written by real producers, for `xlreport check`."""
