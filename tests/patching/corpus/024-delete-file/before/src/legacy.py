OLD = True


def legacy():
    return OLD
