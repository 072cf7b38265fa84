from handshake_doctor.main import run

run()
