n = int(input("how many? "))
