from src.calc import add


def main():
    print(add(2, 3))
