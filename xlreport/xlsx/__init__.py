"""The only code that knows the .xlsx file format: package reading, the workbook contract, safety checks."""
