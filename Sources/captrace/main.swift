import ArgumentParser
print("captrace")
