%% otter_work: the Erlang side of examples/dist_supervise.cpp.
%%
%% otter_work:start() registers a server, otter_work, that starts a worker for
%% each {start_worker, From} and answers From with {worker, Pid}. A worker
%% answers {job, From, N} with {result, N, 60 div (N rem 7)}, so a job that is a
%% multiple of 7 crashes it (badarith), as a bug would. The otter process that
%% asked links to the worker: it learns of the crash through the link.
-module(otter_work).
-export([start/0, server/0, worker/0]).

start() ->
    Pid = spawn(?MODULE, server, []),
    register(otter_work, Pid),
    io:format("otter_work: serving on ~p~n", [node()]),
    Pid.

server() ->
    receive
        {start_worker, From} when is_pid(From) ->
            From ! {worker, spawn(?MODULE, worker, [])},
            server();
        _ ->
            server()
    end.

worker() ->
    receive
        {job, From, N} when is_pid(From), is_integer(N) ->
            From ! {result, N, 60 div (N rem 7)},
            worker()
    end.
