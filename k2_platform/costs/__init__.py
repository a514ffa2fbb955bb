"""The platform cost model: monthly cost and cost per million messages from measured inputs and list prices."""
