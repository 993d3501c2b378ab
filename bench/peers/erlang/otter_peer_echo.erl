%% TCP echo server for the `echo` workload:
%%     run echo-server --port PORT
%% Listens on 127.0.0.1:PORT (PORT 0 picks a free port), prints
%% `erlang echo-server listening <port>` once listening, and serves until
%% the OS process is killed. One process per connection: the acceptor that
%% gets a connection spawns the next acceptor and becomes that connection's
%% handler, so every socket is owned by the process that serves it.
-module(otter_peer_echo).

-export([main/1]).

-define(LISTEN_OPTS, [binary,
                      {ip, {127, 0, 0, 1}},
                      {packet, raw},
                      {active, false},
                      {nodelay, true},
                      {reuseaddr, true},
                      {backlog, 1024}]).

%% Packets delivered per re-arm of an active socket.
-define(ACTIVE_N, 100).

main(["--port", PortStr]) ->
    Port = list_to_integer(PortStr),
    %% Die at once on SIGTERM instead of the VM's graceful init:stop().
    ok = os:set_signal(sigterm, default),
    case gen_tcp:listen(Port, ?LISTEN_OPTS) of
        {ok, Listen} ->
            {ok, Actual} = inet:port(Listen),
            spawn(fun() -> acceptor(Listen) end),
            io:format("erlang echo-server listening ~b~n", [Actual]),
            %% This process owns the listening socket; keep it alive.
            receive after infinity -> ok end;
        {error, Reason} ->
            io:format(standard_error, "erlang: listen on 127.0.0.1:~b: ~p~n",
                      [Port, Reason]),
            erlang:halt(1)
    end;
main(_) ->
    io:format(standard_error, "usage: run echo-server --port PORT~n", []),
    erlang:halt(2).

%% Accepted sockets start passive ({active, false} is inherited from the
%% listening socket) so that no data can arrive before the handler is set up.
acceptor(Listen) ->
    case gen_tcp:accept(Listen) of
        {ok, Socket} ->
            spawn(fun() -> acceptor(Listen) end),
            ok = inet:setopts(Socket, [{active, ?ACTIVE_N}]),
            echo(Socket);
        {error, Reason} ->
            io:format(standard_error, "erlang: accept: ~p~n", [Reason]),
            erlang:halt(1)
    end.

%% {active, N}: the socket delivers up to N packets as messages, then sends
%% tcp_passive and waits to be re-armed. Same flow control as {active, once}
%% with one setopts per N packets instead of one per packet; it measured
%% clearly faster here than {active, once} and than passive gen_tcp:recv/2.
echo(Socket) ->
    receive
        {tcp, Socket, Data} ->
            case gen_tcp:send(Socket, Data) of
                ok -> echo(Socket);
                {error, _} -> gen_tcp:close(Socket)
            end;
        {tcp_passive, Socket} ->
            ok = inet:setopts(Socket, [{active, ?ACTIVE_N}]),
            echo(Socket);
        {tcp_closed, Socket} ->
            ok;
        {tcp_error, Socket, _Reason} ->
            gen_tcp:close(Socket)
    end.
