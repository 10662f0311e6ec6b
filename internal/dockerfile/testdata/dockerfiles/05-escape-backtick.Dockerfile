# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022
RUN powershell -Command `
    # download the installer
    Invoke-WebRequest https://example.com/setup.exe -OutFile C:\setup.exe ; `
    Start-Process C:\setup.exe -ArgumentList '/quiet' -Wait
COPY app\ C:\app\
USER ContainerUser
HEALTHCHECK CMD powershell -Command "exit 0"
CMD ["C:\\app\\app.exe"]
