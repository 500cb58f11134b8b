variable "pis" {
  type        = map(string)
  description = "Raspberry Pi name → address"
}
