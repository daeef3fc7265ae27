"""DynamoDB: the main table's definition, its keys, and one repository per aggregate."""
